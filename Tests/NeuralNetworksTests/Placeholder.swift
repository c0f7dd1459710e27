import Testing

@Test func placeholder_NeuralNetworksTests() { #expect(Bool(true)) }
