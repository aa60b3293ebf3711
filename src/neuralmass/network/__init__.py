from .connectome import Connectome  # noqa: F401
from .coupling import (COUPLINGS, AdditiveCoupling, Coupling, DiffusiveCoupling,  # noqa: F401
                       KuramotoCoupling, LinearCoupling, SigmoidalCoupling, SigmoidalJansenRitCoupling,
                       TanhCoupling, HyperbolicTangentCoupling, get_coupling, additive_coupling,
                       diffusive_coupling, sigmoidal_coupling, sigmoidal_jansen_rit_coupling,
                       hyperbolic_tangent_coupling, laplacian_connectivity, LaplacianConnParam)
from .delays import DelayLine, delay_index, initial_history  # noqa: F401
from .network import Network  # noqa: F401
from .kuramoto_network import KuramotoNetwork  # noqa: F401
from .horn import HORNSeqLayer, HORNSeqNetwork  # noqa: F401
from .jansen_rit_tr import JansenRitTR  # noqa: F401
