// The HTTP module; see ../../README.md and docs in the module's files.
