"""berth: a self-hosted container registry with Azure Container Registry's access model."""

__version__ = "0.1.0"
