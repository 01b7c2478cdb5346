package replica

import (
	"context"
	"log/slog"

	"github.com/rs/zerolog"
)

// slog is the Litestream side of the logger: its lines go out as ours, with
// replica=true to tell them apart.
func (o Options) slog() *slog.Logger {
	return slog.New(renamed{zerolog.NewSlogHandler(o.Log.With().Bool("replica", true).Logger())})
}

// renamed passes Litestream's records on, renaming the attributes whose
// names our lines already use (Litestream calls a compaction level
// "level"), so that no line carries a key twice.
type renamed struct{ slog.Handler }

func (h renamed) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(rename(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h renamed) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = rename(a)
	}
	return renamed{h.Handler.WithAttrs(out)}
}

func (h renamed) WithGroup(name string) slog.Handler { return renamed{h.Handler.WithGroup(name)} }

func rename(a slog.Attr) slog.Attr {
	switch a.Key {
	case zerolog.LevelFieldName:
		a.Key = "ltx_level"
	case zerolog.MessageFieldName, zerolog.TimestampFieldName, "replica":
		a.Key = "litestream_" + a.Key
	}
	return a
}
