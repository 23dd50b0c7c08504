"""From a file's bytes to faces: reading within the memory budget, decoding, the models and the analyzers."""
