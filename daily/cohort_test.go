package daily_test

import (
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// cohortSize is the England cohort: about 230,000 children with a CP-IS
// record.
const cohortSize = 230_000

// TestCohortDay runs a day of the whole England cohort: 230,000 records
// held by 150 LAs, 20,000 shown accesses in the period, a share of records
// to purge and to end-date. The daily run must stay well under a minute and
// bounded in memory: it reads the records of the accessed numbers only, and
// the purge streams the cohort.
func TestCohortDay(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole cohort: not in -short")
	}
	e := newEnv(t)
	const (
		las      = 150
		accesses = 20_000
	)
	today := day("2026-11-22")
	from, to := e.r.Period(today)

	raw, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for i := range las {
		exec(`INSERT INTO local_authorities VALUES (?, ?, 'tel:01632960000', '', 1)`, fmt.Sprintf("E%05d", i), fmt.Sprintf("Council %d", i))
	}
	insPatient, _ := tx.Prepare(`INSERT INTO patients (nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, sensitive, date_of_death)
    VALUES (?, '', '["Child"]', 'Cohort', ?, 'female', '', 0, NULL)`)
	insRecord, _ := tx.Prepare(`INSERT INTO records VALUES (?, ?, ?, 'FILE-1', ?)`)
	insEvent, _ := tx.Prepare(`INSERT INTO access_events (message_id, nhs_number, at, accessor_key, user_id, role_profile_id,
    name_prefix, name_given, name_family, job_role_code, job_role_name, org_ods, org_name, system, asid, las, shown)
    VALUES ('5D4C3B2A-1908-4776-8554-433221100FFE', ?, ?, ?, ?, 'RP1', '', '["Sam"]', 'Okafor', 'R0260', 'Registrar', 'RKE', 'Whittington', 0, '', ?, 1)`)
	numbers := make([]cpis.NHSNumber, 0, cohortSize)
	purgeable, endDated := 0, 0
	for n := 999100000; len(numbers) < cohortSize; n++ {
		s := fmt.Sprintf("%09d", n)
		var number string
		for c := 0; c <= 9; c++ {
			if cand := s + fmt.Sprint(c); cpis.ValidNHSNumber(cand) {
				number = cand
				break
			}
		}
		if number == "" {
			continue
		}
		i := len(numbers)
		numbers = append(numbers, cpis.NHSNumber(number))
		birth := today.AddDate(-1-i%17, 0, -i%300)
		plans := []cpis.Plan{{Type: cpis.CPP, Start: today.AddDate(-1, 0, -i%200)}}
		switch i % 50 {
		case 0: // deleted
			plans[0].Delete = today.AddDate(0, 0, -1)
			purgeable++
		case 1: // turned 18 a few days ago
			birth = today.AddDate(-18, 0, -3)
			endDated++
		case 2:
			plans = append(plans, cpis.Plan{Type: cpis.LAC, Start: today.AddDate(-3, 0, 0), End: today.AddDate(-2, 0, 0)})
			purgeable++
		}
		if _, err := insPatient.Exec(number, birth.Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
		if _, err := insRecord.Exec(number, fmt.Sprintf("E%05d", i%las), fmt.Sprintf("L%d", i), plansText(plans)); err != nil {
			t.Fatal(err)
		}
	}
	step := to.Sub(from) / accesses
	for i := range accesses {
		n := numbers[(i*7919)%cohortSize]
		la := fmt.Sprintf(`["E%05d"]`, ((i*7919)%cohortSize)%las)
		if _, err := insEvent.Exec(string(n), from.Add(time.Duration(i)*step).UnixNano(), fmt.Sprintf("user:%d", i%300), fmt.Sprint(i%300), la); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() { // sample the heap while the day runs
		var m runtime.MemStats
		var max uint64
		for {
			runtime.ReadMemStats(&m)
			max = maxU(max, m.HeapInuse)
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	began := time.Now()
	e.now = to
	res := e.runDay("2026-11-22")
	took := time.Since(began)
	close(stop)
	heap := <-peak
	t.Logf("cohort day: %v, %d notifications, %d accesses, purge %+v, peak heap in use %d MiB (before %d MiB)",
		took, res.Notifications, res.Accesses, res.Purge, heap>>20, before.HeapInuse>>20)
	if res.Notifications != las || res.Accesses == 0 {
		t.Errorf("result %+v", res)
	}
	if res.Purge.Plans != purgeable || res.Purge.EndDated < endDated {
		t.Errorf("purge %+v, want %d plans purged and at least %d end-dated", res.Purge, purgeable, endDated)
	}
	if took > 30*time.Second {
		t.Errorf("the cohort's day took %v", took)
	}
	if heap > 512<<20 {
		t.Errorf("peak heap %d MiB", heap>>20)
	}
	msgs, _ := e.db.Outbox(ctx, "E00001")
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Document), "pertinentCP-ISRecordAccess") {
		t.Errorf("E00001's notification")
	} else {
		summarise(t, msgs[0].Document)
	}
}

// plansText is the stored form of plans (store migration 0004).
func plansText(plans []cpis.Plan) string {
	date := func(t time.Time) string {
		if t.IsZero() {
			return "null"
		}
		return `"` + t.Format(time.DateOnly) + `"`
	}
	var parts []string
	for _, p := range plans {
		parts = append(parts, fmt.Sprintf(`["%s",%s,%s,%s]`, p.Type, date(p.Start), date(p.End), date(p.Delete)))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
