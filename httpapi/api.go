package httpapi

import "net/http"

// New returns the HTTP handler of the API.
func New(cfg Config) http.Handler {
	return http.NotFoundHandler()
}
