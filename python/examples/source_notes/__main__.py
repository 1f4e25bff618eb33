from source_notes import connector

connector.main()
