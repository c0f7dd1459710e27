print("winnow: commands land with the data-and-results issue")
