import Testing

@Test func placeholder_WinnowCLITests() { #expect(Bool(true)) }
