# The C sources of each Lua module: the one list the Makefile and the
# matrix build from. The rockspec repeats them (it cannot include make);
# scripts/check-rock fails when the two differ.
SSE_SRCS  := csrc/lsse_module.c csrc/lsse.c csrc/sse.c csrc/ljson.c csrc/lbind.c
CURL_SRCS := csrc/lcurl.c csrc/lrequest.c csrc/transport.c csrc/lbind.c
