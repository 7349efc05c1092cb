package shells_test

// The helpers of the tests about servers (the tests with the real
// OpenCode are in shells/e2e).
