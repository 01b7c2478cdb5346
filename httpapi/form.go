package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"notpanel/store"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// MaxBatch is how many ids a batch parameter may name after duplicates are
// collapsed.
const MaxBatch = 100

// form holds a request's parameters, each given at most once.
type form map[string]string

// errTooLarge is answered with 413.
var errTooLarge = store.Errorf(store.Invalid, "Request body too large (limit 1 MiB)")

// readForm reads the parameters of a POST body: url-encoded or multipart.
// A parameter given twice, a malformed body or text that is not UTF-8 is
// refused rather than guessed at.
func readForm(r *http.Request) (form, error) {
	ct := r.Header.Get("Content-Type")
	mediaType := "application/x-www-form-urlencoded"
	if ct != "" {
		var err error
		if mediaType, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, store.Errorf(store.Invalid, "Malformed Content-Type header")
		}
	}
	var values url.Values
	switch mediaType {
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, bodyError(err)
		}
		if values, err = url.ParseQuery(string(body)); err != nil {
			return nil, store.Errorf(store.Invalid, "Malformed form body: %s", parseQueryReason(err))
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(MaxBody); err != nil {
			return nil, bodyError(err)
		}
		defer r.MultipartForm.RemoveAll()
		values = r.MultipartForm.Value
		// No parameter is a file. A file part named like a field would be
		// a second value of it, and a lone one would go unread while the
		// caller thinks it sent the field.
		for k, files := range r.MultipartForm.File {
			if len(files) > 1 || len(values[k]) > 0 {
				return nil, store.Errorf(store.Invalid, "Duplicate parameter: %s", k)
			}
			return nil, store.Errorf(store.Invalid, "Invalid parameter: %s (a file; send it as a text field)", k)
		}
	default:
		return nil, store.Errorf(store.Invalid,
			"Unsupported Content-Type %s: send application/x-www-form-urlencoded or multipart/form-data", mediaType)
	}
	return toForm(values)
}

func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errTooLarge
	}
	return store.Errorf(store.Invalid, "Malformed request body")
}

// parseQueryReason keeps the parser's explanation but not the body text.
func parseQueryReason(err error) string {
	var esc url.EscapeError
	if errors.As(err, &esc) {
		return "bad percent-encoding"
	}
	if strings.Contains(err.Error(), "semicolon") {
		return "semicolons are not separators; use &"
	}
	return "cannot parse"
}

// toForm checks that each parameter appears once and is valid UTF-8.
func toForm(values url.Values) (form, error) {
	f := make(form, len(values))
	for k, vs := range values {
		if !utf8.ValidString(k) {
			return nil, store.Errorf(store.Invalid, "Parameter names must be UTF-8")
		}
		if len(vs) > 1 {
			return nil, store.Errorf(store.Invalid, "Duplicate parameter: %s", k)
		}
		if len(vs) == 1 {
			if !utf8.ValidString(vs[0]) {
				return nil, store.Errorf(store.Invalid, "Invalid parameter: %s (not valid UTF-8)", k)
			}
			f[k] = vs[0]
		}
	}
	return f, nil
}

// require returns a parameter that must be present and non-empty.
func (f form) require(name string) (string, error) {
	v := f[name]
	if v == "" {
		return "", store.Errorf(store.Invalid, "Missing required parameter: %s", name)
	}
	return v, nil
}

// ids reads the one-or-many parameters of a call such as status or cancel:
// exactly one of single (one id) and plural (comma-separated ids) is given.
// Duplicates in the list are collapsed, first occurrence kept, and at most
// MaxBatch remain.
func (f form) ids(single, plural string) (ids []string, batch bool, err error) {
	one, many := strings.TrimSpace(f[single]), f[plural]
	switch {
	case one != "" && many != "":
		return nil, false, store.Errorf(store.Invalid, "Either %s or %s is required, not both", single, plural)
	case one != "":
		return []string{one}, false, nil
	case many == "":
		return nil, false, store.Errorf(store.Invalid, "Missing required parameter: %s", single)
	}
	seen := map[string]bool{}
	for _, id := range strings.Split(many, ",") {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		if len(ids) > MaxBatch {
			return nil, true, store.Errorf(store.Invalid, "Too many ids in %s: at most %d per call", plural, MaxBatch)
		}
	}
	if len(ids) == 0 {
		return nil, true, store.Errorf(store.Invalid, "Missing required parameter: %s", plural)
	}
	return ids, true, nil
}
