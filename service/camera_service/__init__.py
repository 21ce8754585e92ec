"""Camera image service for Spot's CORE I/O.

The path of a frame through the package:

    sources/   one module per kind of camera -> Frame objects
    pipeline/  capture thread per source -> latest-frame store -> encode-once cache
    imaging    the bosdyn.api.ImageService servicer (ListImageSources, GetImage)
    robot/     payload auth, directory registration keep-alive, faults, time sync
    app, cli   wiring, configuration and the command line
"""

__version__ = "0.1.0"
