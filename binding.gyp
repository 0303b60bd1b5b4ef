{
  "targets": [
    {
      "target_name": "microbatch_native",
      "sources": ["native/sgemm.cc", "native/kernels.cc"],
      "cflags!": ["-O2", "-fno-exceptions"],
      "cflags_cc!": ["-O2", "-std=gnu++17", "-std=gnu++1y"],
      "cflags": ["-O3", "-ffp-contract=off"],
      "cflags_cc": ["-std=c++17"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": ["-ffp-contract=off"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
      }
    }
  ]
}
