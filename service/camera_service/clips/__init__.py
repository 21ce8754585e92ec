"""Video clips for Data Acquisition: the frames of a source around a capture action, seconds
before it included, stored on the robot through a ``DataAcquisitionPluginService``.

``ring`` keeps the recent frames of clip-enabled sources (references, no copies), ``budget``
sizes the rings from the memory limit, ``writer`` puts frames into a Matroska file (camera
JPEGs untouched), ``metadata`` describes a clip, ``recorder`` records one clip and
``plugin`` answers the Data Acquisition plugin RPCs.
"""
