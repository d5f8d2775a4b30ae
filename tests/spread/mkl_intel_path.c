/* Test-only shim: makes oneMKL (linked into libtorch_cpu.so) take its Intel code paths on any x86-64 CPU.
 * On AMD processors MKL runs a generic path; on Intel Xeons it runs AVX-512 (or, with
 * MKL_ENABLE_INSTRUCTIONS=AVX2, AVX2) kernels, which round differently. LD_PRELOAD this to reproduce an
 * Intel machine's arithmetic on an AMD one (tests/spread/variants.sh). Both symbols are exported by
 * libtorch_cpu.so and called through the PLT, so the preload interposes them. */
int mkl_serv_intel_cpu_true(void) { return 1; }
int mkl_serv_intel_cpu(void) { return 1; }
