from .connectome import Connectome  # noqa: F401
