package shelltest

// Type writes text to the shell's terminal as typed, without waiting for
// anything: for a program that takes the terminal over (a TUI), where no
// prompt follows.
func (s *Shell) Type(text string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}
