package payment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The encoder writes what PHP's json_encode writes, case by case, as
// testdata/phpjson.golden records it (made by PHP itself with
// testdata/phpjson.php from testdata/phpjson-cases.txt).
func TestPHPEncodingMatchesPHP(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "phpjson.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var row [3]string // the case, PHP's default encoding, JSON_UNESCAPED_UNICODE
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("golden line %d: %v", n+1, err)
		}
		n++
		v, err := decodePHP([]byte(row[0]))
		if err != nil {
			t.Errorf("decode %s: %v", row[0], err)
			continue
		}
		for i, raw := range []bool{false, true} {
			var buf bytes.Buffer
			encodePHP(&buf, v, raw)
			if got := buf.String(); got != row[1+i] {
				t.Errorf("encode %s (unescaped unicode %v):\n got %s\nwant %s", row[0], raw, got, row[1+i])
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d golden cases", n)
	}
}

func TestDecodePHPRefuses(t *testing.T) {
	deep := bytes.Repeat([]byte("["), maxPHPDepth+1)
	for _, in := range []string{``, `{`, `{"a":1}x`, `{"a":1} {}`, `[1,]`, "\"\xff\"", `1e999`, `{1:2}`, string(deep)} {
		if _, err := decodePHP([]byte(in)); err == nil {
			t.Errorf("decodePHP(%.20q) succeeded", in)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]int64{"10": 10_000_000, "10.00000000": 10_000_000, "0.1234567": 123_456, "12.5": 12_500_000} {
		if got, err := parseDecimal(in); err != nil || got != want {
			t.Errorf("parseDecimal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1e3", "abc", "1,000.00"} {
		if _, err := parseDecimal(in); err == nil {
			t.Errorf("parseDecimal(%q) succeeded", in)
		}
	}
}
