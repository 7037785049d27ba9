// The Materialize version the emulator reports, in `mz_version()` and the `mz_version`
// ParameterStatus: the latest upstream release (MaterializeInc/materialize tag v26.49.1), with
// "(emulator)" where Materialize prints its build's commit.
export const MZ_VERSION = 'v26.49.1 (emulator)'
