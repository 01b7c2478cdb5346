package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests see")

// golden compares got with testdata/<test name>/<name>, or writes it there
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.Split(t.Name(), "/")[0], name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s . -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s changed; if the change is meant, go test -run %s . -update\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// TestHelpGolden keeps every command's --help as the operator reads it
// under testdata/, so that a change to a flag's name, default or text shows
// in review.
func TestHelpGolden(t *testing.T) {
	var c cli
	k, err := newParser(t.Context(), &c, &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var paths [][]string
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		if n.Type == kong.CommandNode {
			paths = append(paths, path)
		}
		for _, child := range n.Children {
			walk(child, append(append([]string(nil), path...), child.Name))
		}
	}
	walk(k.Model.Node, nil)
	if len(paths) < 20 {
		t.Fatalf("only %d commands found", len(paths))
	}
	golden(t, "notpanel.txt", notpanelEnv(t, nil, "--help").stdout)
	for _, p := range paths {
		r := notpanelEnv(t, nil, append(p, "--help")...)
		if r.code != 0 {
			t.Errorf("%s --help: exit %d", strings.Join(p, " "), r.code)
		}
		golden(t, strings.Join(p, "-")+".txt", r.stdout)
	}
}
