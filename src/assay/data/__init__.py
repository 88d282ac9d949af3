"""Data intake: Roles, Dataset, readers and fingerprints."""

from assay.data._dataset import Dataset
from assay.data._fingerprint import frame_fingerprint, json_fingerprint
from assay.data._readers import read_table
from assay.data._roles import Roles, Task

__all__ = ["Dataset", "Roles", "Task", "frame_fingerprint", "json_fingerprint", "read_table"]
