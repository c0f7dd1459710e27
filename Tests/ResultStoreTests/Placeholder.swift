import Testing

@Test func placeholder_ResultStoreTests() { #expect(Bool(true)) }
