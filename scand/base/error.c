#include "scand/base/error.h"

G_DEFINE_QUARK(scand - error - quark, scand_error)
