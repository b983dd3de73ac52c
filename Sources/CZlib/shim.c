// The wrappers are all `static inline` in the header; SwiftPM needs one source file to build the target.
#include "CZlib.h"
