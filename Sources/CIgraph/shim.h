/* igraph.h defines _GNU_SOURCE; the libc headers must be seen first or every Swift file that imports
   Foundation and CIgraph together fails with "fd_set ... not present in definition". */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <sys/types.h>
#include <sys/select.h>
#include <igraph/igraph.h>
