package projectfile

import (
	"slices"
	"testing"
	"time"
)

// TestWhy: the reasons a file does not apply, as `oca status` says them.
func TestWhy(t *testing.T) {
	fx := newTrustFixture(t)
	// Judged as if an hour had passed: the file is past the racy window,
	// so an allowed verdict is recorded for the next check.
	fx.trust.Now = func() time.Time { return time.Now().Add(time.Hour) }
	p, data := fx.project(t, "proj", "account = \"work\"\n")
	none := func(string) ([]string, error) { return nil, nil }
	judge := func() *Judgement {
		t.Helper()
		j, err := fx.trust.Judge(p, none)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	if got := fx.trust.Why(p, judge(), nil); !slices.Equal(got, []string{"never allowed"}) {
		t.Errorf("a new file: %q", got)
	}
	if err := fx.trust.Allow(p, p, data); err != nil {
		t.Fatal(err)
	}
	if j := judge(); j.Verdict != Allowed || fx.trust.Why(p, j, nil) != nil {
		t.Fatalf("allowed: %v, %q", j.Verdict, fx.trust.Why(p, j, nil))
	}
	write(t, p, "account = \"work\"\n# edited\n")
	if got := fx.trust.Why(p, judge(), []string{"/trusted"}); !slices.Equal(got, []string{"edited since it was allowed", "not trusted by the account's trusted_paths (/trusted)"}) {
		t.Errorf("edited: %q", got)
	}
	if err := fx.trust.Deny(p, p, data); err != nil {
		t.Fatal(err)
	}
	if got := fx.trust.Why(p, judge(), nil); !slices.Equal(got, []string{"denied (by oca deny)"}) {
		t.Errorf("denied: %q", got)
	}
}
