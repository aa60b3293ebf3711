from .connectome import Connectome  # noqa: F401
from .coupling import (COUPLINGS, AdditiveCoupling, Coupling, DiffusiveCoupling,  # noqa: F401
                       KuramotoCoupling, LinearCoupling, SigmoidalCoupling, SigmoidalJansenRitCoupling,
                       TanhCoupling, HyperbolicTangentCoupling, get_coupling, additive_coupling,
                       diffusive_coupling, sigmoidal_coupling, sigmoidal_jansen_rit_coupling,
                       hyperbolic_tangent_coupling)
from .delays import DelayLine, initial_history  # noqa: F401
from .network import Network  # noqa: F401
