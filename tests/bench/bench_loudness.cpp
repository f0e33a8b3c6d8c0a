// Prints a file's integrated loudness and true peak as libebur128 measures them (the
// independent meter the mastering benches compare outputs with):
//   bench_loudness FILE...  ->  FILE<TAB>LUFS<TAB>dBTP
#include <cstdio>

#include "wav.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_loudness FILE...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    const tl::test::Audio audio = tl::test::read_audio(argv[i]);
    if (audio.rate == 0) {
      std::fprintf(stderr, "bench_loudness: cannot read %s\n", argv[i]);
      failed = 1;
      continue;
    }
    std::printf("%s\t%.2f\t%.2f\n", argv[i], tl::test::integrated_lufs(audio),
                tl::test::true_peak_dbtp(audio));
  }
  return failed;
}
