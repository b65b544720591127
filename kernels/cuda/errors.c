/* errors.c — what a failed CUDA call means for the backend, decided from the error codes
 * alone (pure functions: tested on a machine without a GPU), and the device faults the
 * backend can inject for the GPU fault drill (MNEMO_CUDA_FAULT, cuda.h). */
#include "cuda.h"

#include <stdlib.h>
#include <string.h>

bool cuda_error_sticky(cudaError_t e)
{
    switch (e) {
    /* A kernel broke: the context is poisoned, every later call fails the same way. */
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorTensorMemoryLeak:
    /* The hardware or its driver gave up on this context. */
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
    case cudaErrorContained:
    case cudaErrorDevicesUnavailable:
    case cudaErrorMpsClientTerminated:
    case cudaErrorExternalDevice:
    /* Nothing says what state the context is in: treat it as lost, since a restart costs
     * seconds and a poisoned context would fail every run until one. */
    case cudaErrorUnknown:
        return true;
    default:
        return false;
    }
}

bool cuda_failure_lost(cudaError_t cause, cudaError_t probe)
{
    return cuda_error_sticky(cause) || probe != cudaSuccess;
}

int cuda_fault_parse(const char *spec, struct cuda_fault *f, struct error *err)
{
    static const char illegal[] = "illegal-address@";
    memset(f, 0, sizeof *f);
    if (!spec || !*spec)
        return 0;
    if (strcmp(spec, "capture") == 0 || strcmp(spec, "algo") == 0) {
        f->kind = spec[0] == 'c' ? CUDA_FAULT_CAPTURE : CUDA_FAULT_ALGO;
        return 0;
    }
    if (strncmp(spec, illegal, sizeof illegal - 1) == 0) {
        char *end = NULL;
        long run = strtol(spec + sizeof illegal - 1, &end, 10);
        if (end && *end == '\0' && end != spec + sizeof illegal - 1 && run >= 1) {
            f->kind = CUDA_FAULT_ILLEGAL_ADDRESS;
            f->run = run;
            return 0;
        }
    }
    return error_set(err,
                     "MNEMO_CUDA_FAULT='%s': want 'capture', 'algo' or 'illegal-address@N' (N "
                     ">= 1, the backend's run number)",
                     spec);
}
