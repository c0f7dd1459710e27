// NeuralNetworks module: sources are added by the issue that builds it.
