from source_jira import connector

connector.main()
