/* Positive control for leakcheck.sh: loses one 4321-byte block at start-up,
 * so a leak check that reports nothing for it is not working. */
#include <stdlib.h>
__attribute__((constructor)) static void lose_a_block(void)
{
  volatile char *p = malloc(4321);
  p[0] = 1;
  p = 0;
}
