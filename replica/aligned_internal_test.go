package replica

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/superfly/ltx"
)

// listed is a replica that only lists files.
type listed map[int][]*ltx.FileInfo

func (l listed) Type() string                                          { return "listed" }
func (l listed) Init(context.Context) error                            { return nil }
func (l listed) SetLogger(*slog.Logger)                                {}
func (l listed) DeleteAll(context.Context) error                       { return nil }
func (l listed) DeleteLTXFiles(context.Context, []*ltx.FileInfo) error { return nil }
func (l listed) OpenLTXFile(context.Context, int, ltx.TXID, ltx.TXID, int64, int64) (io.ReadCloser, error) {
	return nil, io.EOF
}
func (l listed) WriteLTXFile(context.Context, int, ltx.TXID, ltx.TXID, io.Reader) (*ltx.FileInfo, error) {
	return nil, io.EOF
}
func (l listed) LTXFiles(_ context.Context, level int, _ ltx.TXID, _ bool) (ltx.FileIterator, error) {
	return ltx.NewFileInfoSliceIterator(l[level]), nil
}

func ltxFile(level int, min, max ltx.TXID) *ltx.FileInfo {
	return &ltx.FileInfo{Level: level, MinTXID: min, MaxTXID: max}
}

// A replica whose snapshot is ahead of its level 0 is not aligned: a
// restored file must then be served with a new replica.
func TestLevelsAligned(t *testing.T) {
	for _, c := range []struct {
		name  string
		files listed
		want  bool
	}{
		{"level 0 newest", listed{0: {ltxFile(0, 1, 1), ltxFile(0, 7, 7)}, 1: {ltxFile(1, 1, 6)}, 9: {ltxFile(9, 1, 6)}}, true},
		{"level 0 equal", listed{0: {ltxFile(0, 6, 6)}, 9: {ltxFile(9, 1, 6)}}, true},
		{"snapshot ahead", listed{0: {ltxFile(0, 1, 1), ltxFile(0, 2, 2)}, 1: {ltxFile(1, 1, 2)}, 9: {ltxFile(9, 1, 6)}}, false},
		{"empty", listed{}, true},
	} {
		got, err := levelsAligned(context.Background(), c.files)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
}
