import Testing

@Test func placeholder_DataIOTests() { #expect(Bool(true)) }
