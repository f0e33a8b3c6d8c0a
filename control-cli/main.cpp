// tlctl: the operator's terminal client. Its commands are the rows of src/command_table.cpp.
#include "tl/ctl/commands.h"

int main(int argc, char** argv) {
  return tl::ctl::tlctl_main(argc, argv);
}
