// tlctl: the operator's terminal client. Options and commands live in src/commands.cpp.
#include "tl/ctl/commands.h"

int main(int argc, char** argv) { return tl::ctl::tlctl_main(argc, argv); }
