package main

import (
	"net/http"

	"spinegw/cpis"
	"spinegw/store"
)

// reportsHandler serves the reports on the admin listener under
// /admin/reports/.
func reportsHandler(db *store.DB, c cpis.Clock) http.Handler { return http.NotFoundHandler() }
