# spinegw: see README.md. Every target installs what it needs from Debian
# first (scripts/deps.sh), so a fresh Debian 12 machine with Go works.
GO      ?= go
# Link Debian's SQLite rather than compiling the bundled amalgamation (a
# minute of gcc on every cold build).
TAGS    := -tags libsqlite3
BIN     := bin/spinegw
LISTEN  ?= 127.0.0.1:8080

.PHONY: all deps deps-test build run test vet race fuzz bench bench-upload conformance clean

all: build

deps:
	@./scripts/deps.sh

## deps-test: what only the tests need (Chromium, Python zeep)
deps-test:
	@./scripts/deps-test.sh

build: deps
	$(GO) build $(TAGS) -o $(BIN) ./cmd/spinegw

## run: the gateway on $(LISTEN) with an embedded SQLite file and the demo world
run: build
	$(BIN) serve --listen $(LISTEN) --db spinegw.db --world demo/world.yaml

## test: every test (unit, golden, conformance corpus, end to end), vet, a
## short run of each fuzz target and the race detector over the concurrent packages
test: deps deps-test vet
	$(MAKE) --no-print-directory fuzz FUZZTIME=2000x
	$(GO) test $(TAGS) -count=1 ./...
	$(MAKE) --no-print-directory race

## race: every library package's tests under the race detector, with -short (the volume tests it skips, the
## England cohort and the like, exercise no more concurrency and run in full above). cmd/ is left out: its
## end-to-end tests drive a separately built binary, so the detector would watch only the test's client.
## About 45 s on a 2-core machine; RACE_PKGS=./... for everything, RACE_FLAGS= for the volume tests too.
RACE_PKGS  ?= $$($(GO) list $(TAGS) ./... | grep -v /cmd/)
RACE_FLAGS ?= -short
race: deps
	$(GO) test $(TAGS) -race $(RACE_FLAGS) -count=1 $(RACE_PKGS)

vet: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l . ; echo "gofmt needed"; exit 1; }
	$(GO) vet $(TAGS) ./...

FUZZTIME ?= 60s
## fuzz: each fuzz target for FUZZTIME (a duration, or a count of inputs such as 2000x; `make test` uses a count,
## which a busy machine cannot cut short the way it can a time budget)
fuzz: deps
	@for pkg in $$($(GO) list $(TAGS) ./...); do \
	  for f in $$($(GO) test $(TAGS) -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test $(TAGS) -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/spinegw-fuzz.log 2>&1 || { cat /tmp/spinegw-fuzz.log; exit 1; }; \
	  done; \
	done

## bench: query load benchmark against a bare net/http baseline (see docs/performance.md)
bench: build
	$(GO) run $(TAGS) ./cmd/spinegw-bench run --spinegw $(BIN)

## bench-upload: LA Upload files (1,500 records and the 230,000-record England cohort) against a bare SQLite insert
bench-upload: build
	$(GO) run $(TAGS) ./cmd/spinegw-bench upload --spinegw $(BIN)

## conformance: start a gateway as conformance/suite.yaml says and replay the whole corpus against it
## (scripts/conformance.sh); JUnit and HTML reports in bin/conformance/
conformance: build
	./scripts/conformance.sh

clean:
	rm -rf bin spinegw.db spinegw.db-wal spinegw.db-shm demo-query.xml mailbox
