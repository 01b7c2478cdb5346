package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"notpanel/store"
)

type siteCmd struct {
	Set  siteSetCmd  `cmd:"" help:"Change the storefront's name, tagline, contact, terms, accent colour or public URL."`
	Show siteShowCmd `cmd:"" help:"Show the shop window's settings."`
}

type siteSetCmd struct {
	Name        *string `placeholder:"TEXT" help:"The panel's name, atop every page and in the browser's tab; at most 60 characters (\"\" restores the default)."`
	Tagline     *string `placeholder:"TEXT" help:"One line under the name on the home page; at most 200 characters (\"\" restores the default)."`
	Contact     *string `placeholder:"TEXT" help:"How customers reach you, shown as written: an e-mail address, a Telegram handle, a URL; at most 200 characters (\"\" for none)."`
	TermsFile   *string `name:"terms-file" placeholder:"FILE" help:"Plain-text file of the terms /terms shows, paragraphs separated by blank lines; at most 100,000 characters; - reads stdin (\"\" for none)."`
	AccentColor *string `name:"accent-color" placeholder:"#RRGGBB" help:"Colour of buttons and links, as #rrggbb; pick one that white text reads well on (\"\" restores the default)."`
	URL         *string `name:"url" placeholder:"URL" help:"The panel's public address, e.g. https://panel.example.com: password reset links point there (\"\" for none)."`
}

func (c *siteSetCmd) Help() string {
	return `Only the flags given change; an empty value (--name "") restores the default. serve shows the change from its next request.

  notpanel site set --name "Boost Shop" --accent-color "#b03a2e" --url https://boost.example.com`
}

func (c *siteSetCmd) Run(ctx context.Context, a *app) error {
	p := store.SitePatch{Name: c.Name, Tagline: c.Tagline, Contact: c.Contact, Accent: c.AccentColor, URL: c.URL}
	var changed []string
	for _, f := range []struct {
		set  bool
		what string
	}{{c.Name != nil, "name"}, {c.Tagline != nil, "tagline"}, {c.Contact != nil, "contact"}, {c.TermsFile != nil, "terms"},
		{c.AccentColor != nil, "accent colour"}, {c.URL != nil, "URL"}} {
		if f.set {
			changed = append(changed, f.what)
		}
	}
	if len(changed) == 0 {
		return errors.New("nothing to change: give at least one flag (see notpanel site set --help)")
	}
	if c.TermsFile != nil {
		terms, err := readTerms(a.stdin, *c.TermsFile)
		if err != nil {
			return err
		}
		p.Terms = &terms
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	site, err := db.SetSite(ctx, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "site %s set; serve shows it from its next request\n", strings.Join(changed, ", "))
	if c.URL != nil && strings.HasPrefix(site.URL, "http://") {
		fmt.Fprintln(a.stderr, "the URL is http: passwords and session cookies would cross the network in clear; serve the panel over https (see the VPS section of the README)")
	}
	return nil
}

// maxTermsBytes is read of a terms file at most: 100,000 characters of up
// to four bytes, and one more byte so that a longer file is refused by the
// store's length rule rather than cut.
const maxTermsBytes = 4*100_000 + 1

// readTerms reads the terms from path ("-" for stdin, "" for none).
func readTerms(stdin io.Reader, path string) (string, error) {
	var r io.Reader
	switch path {
	case "":
		return "", nil
	case "-":
		r = stdin
	default:
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("terms: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxTermsBytes))
	if err != nil {
		return "", fmt.Errorf("terms: %w", err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("terms file %s is not UTF-8 text: save it as UTF-8 plain text", path)
	}
	// Windows editors end lines with CR LF; the pages want one kind.
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

type siteShowCmd struct {
	JSON bool `name:"json" help:"Print JSON (the terms in full) instead of text."`
}

func (c *siteShowCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	site, err := db.Site(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(a.stdout, site)
	}
	def := store.DefaultSite
	t := newTable(a.stdout, "name:", orDefault(site.Name, def.Name))
	t.row("tagline:", orDefault(site.Tagline, def.Tagline))
	t.row("contact:", orNone(site.Contact, "none"))
	t.row("accent colour:", orDefault(site.Accent, def.Accent))
	t.row("url:", orNone(site.URL, "none; password reset links need it: notpanel site set --url"))
	t.row("terms:", termsSummary(site.Terms))
	return t.flush()
}

func orDefault(v, def string) string {
	if v == def {
		return v + " (default)"
	}
	return v
}

func orNone(v, none string) string {
	if v == "" {
		return "(" + none + ")"
	}
	return v
}

// termsSummary tells how long the terms are, not the text itself, which
// --json prints.
func termsSummary(terms string) string {
	if terms == "" {
		return "(none)"
	}
	paragraphs := 0
	for p := range strings.SplitSeq(terms, "\n\n") {
		if strings.TrimSpace(p) != "" {
			paragraphs++
		}
	}
	unit := "paragraphs"
	if paragraphs == 1 {
		unit = "paragraph"
	}
	return fmt.Sprintf("%d %s, %d characters (--json prints them)", paragraphs, unit, utf8.RuneCountInString(terms))
}
