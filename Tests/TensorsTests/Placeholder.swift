import Testing

@Test func placeholder_TensorsTests() { #expect(Bool(true)) }
