import Testing

@Test func placeholder_OptimizersTests() { #expect(Bool(true)) }
