/// Genre-flavoured words for generated artist names, song titles and releases, so that text features
/// carry the planted genre signal. Words are fixed data: changing them changes every generated file.
struct Genre {
    let name: String
    /// Words typical of the genre's titles and names.
    let words: [String]
    /// Typical release years, inclusive.
    let years: ClosedRange<Int>
}

enum Vocabulary {
    static let genres: [Genre] = [
        Genre(name: "metal", words: [
            "Iron", "Blood", "Thunder", "Doom", "Steel", "Inferno", "Skull", "Raven", "Abyss", "Wrath", "Chaos",
            "Serpent", "Grave", "Fury", "Storm", "Blade", "Black", "Throne", "Hammer", "Eclipse", "Venom", "Crypt",
        ], years: 1980...2010),
        Genre(name: "hip-hop", words: [
            "Block", "Hustle", "Flow", "Street", "Crown", "Cash", "Rhyme", "Beat", "Hood", "Boss", "Gold", "Cypher",
            "Corner", "Mic", "Dollar", "Game", "Royal", "Grind", "Homie", "Lyric", "Trap", "Verse",
        ], years: 1988...2011),
        Genre(name: "electronic", words: [
            "Pulse", "Neon", "Circuit", "Synth", "Laser", "Orbit", "Digital", "Signal", "Echo", "Voltage", "Pixel",
            "Nebula", "Wave", "Frequency", "Chrome", "Binary", "Rave", "Vector", "Static", "Prism", "Drift", "Module",
        ], years: 1992...2011),
        Genre(name: "jazz", words: [
            "Blue", "Smoke", "Midnight", "Velvet", "Swing", "Bourbon", "Saxophone", "Lounge", "Bebop", "Moonlight",
            "Trumpet", "Harlem", "Cool", "Groove", "Satin", "Ballad", "Quartet", "Sway", "Whisper", "Brass", "Noir", "Gin",
        ], years: 1955...2005),
        Genre(name: "folk", words: [
            "River", "Meadow", "Willow", "Harvest", "Mountain", "Lantern", "Cabin", "Sparrow", "Prairie", "Hollow",
            "Fiddle", "Orchard", "Valley", "Wander", "Acorn", "Creek", "Ember", "Timber", "Barley", "Heather", "Pine", "Dawn",
        ], years: 1965...2011),
        Genre(name: "pop", words: [
            "Love", "Baby", "Heart", "Sugar", "Dance", "Kiss", "Party", "Forever", "Candy", "Starlight", "Crush",
            "Glitter", "Summer", "Tonight", "Sweet", "Diamond", "Dream", "Shine", "Radio", "Darling", "Bubblegum", "Wink",
        ], years: 1985...2011),
        Genre(name: "classical", words: [
            "Sonata", "Concerto", "Symphony", "Nocturne", "Prelude", "Fugue", "Allegro", "Adagio", "Requiem", "Etude",
            "Overture", "Minuet", "Rhapsody", "Cantata", "Opus", "Serenade", "Largo", "Aria", "Toccata", "Scherzo", "Suite", "Andante",
        ], years: 1950...2010),
        Genre(name: "punk", words: [
            "Riot", "Anarchy", "Spit", "Noise", "Rebel", "Safety", "Pin", "Broken", "Garage", "Youth", "Trash",
            "Rage", "Bored", "Filth", "Mohawk", "Gutter", "Scream", "Sick", "Vandal", "Fast", "Loud", "Stitch",
        ], years: 1976...2008),
    ]

    /// Words that appear in every genre, so that text alone does not give the genre away.
    static let common: [String] = [
        "Night", "Day", "Song", "Time", "Light", "World", "Home", "Road", "Fire", "Rain", "Girl", "Boy", "Sky",
        "Heaven", "Gone", "Away", "Again", "Down", "Up", "Last", "First", "Little", "Old", "New",
    ]

    static let givenNames: [String] = [
        "Ana", "Ben", "Carla", "Dev", "Elena", "Felix", "Greta", "Hugo", "Iris", "Jonas", "Kira", "Leo", "Mara",
        "Nico", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Ugo", "Vera", "Wes", "Yara", "Zoe",
    ]

    static let surnames: [String] = [
        "Adler", "Brandt", "Costa", "Dumas", "Engel", "Fischer", "García", "Hansen", "Ito", "Jansen", "Kowalski",
        "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Varga",
        "Weber", "Young", "Zhang",
    ]
}
