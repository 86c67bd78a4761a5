"""Developer tools of the project (C++ Inference-node stand-in, render check); not shipped to Nuke."""
