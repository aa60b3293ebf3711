"""Forward models: neural activity → BOLD (Balloon–Windkessel, HRF kernels) and EEG/MEG sensors
(lead fields, MNE-Python forward solutions in and ``Raw``/``Epochs`` out)."""

from .bold import (HEMODYNAMIC_PARAMETERS, BOLDMonitor, BOLDSignal, balloon_drift,
                   balloon_jacobian, balloon_resting_state, balloon_steady_state, balloon_step,
                   bold_coefficients, bold_signal, from_physical, hemodynamic_params,
                   simulate_bold, to_physical)
from .hrf import (HRF_KERNELS, DoubleExponentialHRFKernel, FirstOrderVolterraHRFKernel,
                  GammaHRFKernel, HRFBold, HRFKernel, MixtureOfGammasHRFKernel,
                  double_exponential_hrf, fft_convolve, gamma_hrf, glover_hrf, hrf_bold, hrf_kernel,
                  volterra_kernel, window_mean)
from .leadfield import (EEGLeadFieldModel, LeadFieldModel, LeadfieldReadout, MEGLeadFieldModel,
                        average_reference)
from .mne import (MNE_MODES, connectome_sources, from_mne, make_sphere_forward, to_epochs,
                  to_raw)

__all__ = [
    "BOLDSignal", "BOLDMonitor", "HEMODYNAMIC_PARAMETERS", "hemodynamic_params",
    "bold_coefficients", "balloon_resting_state", "balloon_drift", "balloon_step", "bold_signal",
    "balloon_steady_state", "balloon_jacobian", "to_physical", "from_physical", "simulate_bold",
    "HRF_KERNELS", "volterra_kernel", "gamma_hrf", "double_exponential_hrf", "glover_hrf",
    "hrf_kernel", "fft_convolve", "hrf_bold", "window_mean", "HRFKernel", "HRFBold",
    "FirstOrderVolterraHRFKernel", "GammaHRFKernel", "DoubleExponentialHRFKernel",
    "MixtureOfGammasHRFKernel",
    "LeadFieldModel", "EEGLeadFieldModel", "MEGLeadFieldModel", "LeadfieldReadout", "average_reference",
    "from_mne", "to_raw", "to_epochs", "connectome_sources", "make_sphere_forward", "MNE_MODES",
]
