/* Wine 8.0 (Debian bookworm) has no bcryptprimitives.dll, whose ProcessPrng
 * Rust's standard library imports on Windows (every real Windows 10 and
 * later has it). tests/windows/wine-smoke builds this stand-in with MinGW
 * and puts it into the throwaway Wine prefix only: the random bytes come
 * from advapi32's RtlGenRandom (SystemFunction036), Wine's CSPRNG. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
