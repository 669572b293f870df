package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	h := handler()
	for path, want := range map[string]string{"/": service, "/healthz": "ok", "/rooms": "A-102"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("GET %s: %d %q, want 200 containing %q", path, rec.Code, rec.Body.String(), want)
		}
	}
}
