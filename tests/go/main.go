// Command strconv-golden prints Go's answers that escc's Go helpers (src/go/strconv.rs) must
// reproduce: strconv.Quote of byte strings chosen at Unicode plane boundaries, unassigned and
// private-use code points and invalid UTF-8, and the runs of code points strconv.IsPrint accepts.
//
// Its output is committed as fixtures/go/strconv.golden; a Rust test compares escc against
// that file, and another reruns this program and compares the file with its output:
//
//	cd tests/go && GOTOOLCHAIN=go1.25.8 go run . > ../../fixtures/go/strconv.golden
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// runes are quoted one by one, each also between two ASCII letters.
var runes = []rune{
	// ASCII controls, space, DEL and the C1 controls around Latin-1.
	0x00, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b, 0x1f, 0x20, 0x22, 0x27, 0x5c, 0x7e,
	0x7f, 0x80, 0x85, 0x9f, 0xa0, 0xa1, 0xac, 0xad, 0xae, 0xff,
	// UTF-8 length boundaries.
	0x100, 0x7ff, 0x800, 0xfff, 0x1000,
	// Unassigned in the BMP (U+0378 was quoted raw by an older escc copy).
	0x0378, 0x0379, 0x0380, 0x0530, 0x0590, 0x2065, 0x2fff, 0xfdd0, 0xfdef, 0xfff0,
	// Format characters and separators.
	0x0600, 0x061c, 0x06dd, 0x180e, 0x200b, 0x200d, 0x200e, 0x2028, 0x2029, 0x202e, 0x2060,
	0x2066, 0x3000, 0xfeff, 0xfff9, 0xfffb, 0xfffc, 0xfffd,
	// Around the surrogates and the BMP private-use area.
	0xd7a3, 0xd7a4, 0xd7ff, 0xe000, 0xe001, 0xf8ff, 0xf900,
	// The last code points of the BMP.
	0xfffe, 0xffff,
	// Supplementary planes: assigned, unassigned, tags and variation selectors, private use.
	0x1d400, 0x1f600, 0x1fbff, 0x1fffd, 0x2a6df, 0x2a6e0, 0x3134a, 0x3134b, 0x323af, 0x323b0,
	0xe0000, 0xe0001, 0xe0020, 0xe007f, 0xe0080, 0xe00ff, 0xe0100, 0xe01ef, 0xe01f0,
	0xefffd, 0xf0000, 0xf0001, 0xffffd, 0x100000, 0x10fffd, 0x10fffe, 0x10ffff,
}

// invalid are byte strings that are not (entirely) UTF-8, hex-encoded.
var invalid = []string{
	"80", "bf", "c0", "c1", "c0af", "c1bf", "c2", "c27f", "df", "e0", "e080", "e08080",
	"e09fbf", "ed", "eda080", "edbfbf", "ef", "efbf", "efbfbe", "efbfbd", "f0", "f09f98",
	"f09f9861", "f08f8080", "f4", "f48fbfbf", "f4908080", "f5", "f8", "fc", "fe", "ff",
	"61ff62", "ffff", "c3a9ff", "e282ac80", "22ff5c", "0aff",
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "# strconv.Quote and strconv.IsPrint as Go prints them: tests/go (go run .). Do not edit.")
	fmt.Fprintf(w, "go %s unicode %s\n", runtime.Version(), unicode.Version)

	quote := func(b []byte) {
		fmt.Fprintf(w, "quote %s %s\n", hex.EncodeToString(b), strconv.Quote(string(b)))
	}
	for _, r := range runes {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		quote([]byte(string(r)))
		quote([]byte("a" + string(r) + "z"))
	}
	for plane := rune(0); plane <= 0x10; plane++ {
		for _, r := range []rune{plane << 16, plane<<16 | 1, plane<<16 | 0xfffd, plane<<16 | 0xfffe, plane<<16 | 0xffff} {
			quote([]byte(string(r)))
		}
	}
	for _, h := range invalid {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic(err)
		}
		quote(b)
	}

	// Maximal runs of printable code points; surrogates are never printable.
	start := rune(-1)
	for r := rune(0); r <= utf8.MaxRune+1; r++ {
		printable := r <= utf8.MaxRune && strconv.IsPrint(r)
		if r <= utf8.MaxRune && printable != unicode.IsPrint(r) {
			panic(fmt.Sprintf("strconv.IsPrint and unicode.IsPrint disagree on U+%04X", r))
		}
		switch {
		case printable && start < 0:
			start = r
		case !printable && start >= 0:
			fmt.Fprintf(w, "print %x %x\n", start, r-1)
			start = -1
		}
	}
}
