package payment

import (
	"net/http"
	"strings"

	"notpanel/server"
)

// Room is the payment callbacks' part of the site: POST
// /payments/NAME/webhook (ServeHTTP), and JSON answers for every other
// path under /payments/.
func (s *Service) Room() server.Room {
	return server.Room{
		Name: "payments",
		Routes: func(m server.Mux) {
			m.Handler(http.MethodPost, "/payments/:gateway/webhook", s)
		},
		Owns: func(path string) bool { return strings.HasPrefix(path, "/payments/") },
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeAnswer(w, http.StatusNotFound, "Not found")
		}),
		MethodNotAllowed: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeAnswer(w, http.StatusMethodNotAllowed, "Method not allowed: use POST")
		}),
		Panicked: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeAnswer(w, http.StatusInternalServerError, "Internal error")
		}),
	}
}
