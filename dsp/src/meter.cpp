#include "tl/dsp/meter.h"
