package store_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

func maxProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkRecordAccessParallel records accesses from 160 goroutines at
// once (80 per GOMAXPROCS on the 2-core reference machine), the load the
// gateway is sized for; every positive query makes one.
func BenchmarkRecordAccessParallel(b *testing.B) {
	db, _ := open(b)
	numbers := []cpis.NHSNumber{"9995260107", "9995260115", "9995260123", "9995260131", "9995260158"}
	var client atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(max(1, 160/maxProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := client.Add(1)
		acc := person(fmt.Sprintf("4%011d", c))
		at := t0
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			at = at.Add(time.Minute)
			start := time.Now()
			if err := db.RecordAccess(ctx, event(numbers[(int(c)+i)%len(numbers)], acc, at)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	// What a caller waits for its commit, the figure a query's response
	// time carries.
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		b.ReportMetric(float64(latencies[n/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(latencies[n*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkSubject reads a subject as every query does: a patient, records
// from two local authorities and a full history to thin.
func BenchmarkSubject(b *testing.B) {
	db := subjectFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := db.Subject(ctx, "9995260107")
		if err != nil || len(s.Records) != 2 || len(s.History) != cpis.HistoryLimit {
			b.Fatalf("Subject = %d records, %d events, %v", len(s.Records), len(s.History), err)
		}
	}
}

// BenchmarkSubjectParallel is BenchmarkSubject from many goroutines: the
// read pool's throughput.
func BenchmarkSubjectParallel(b *testing.B) {
	db := subjectFixture(b)
	b.SetParallelism(max(1, 160/maxProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Subject(ctx, "9995260107"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func subjectFixture(b *testing.B) *store.DB {
	db, _ := open(b)
	if err := db.MergeWorld(ctx, sample(b)); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := db.RecordAccess(ctx, event("9995260107", person(fmt.Sprintf("5%011d", i)), t0.Add(time.Duration(i)*time.Minute))); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
