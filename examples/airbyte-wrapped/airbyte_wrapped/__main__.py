from airbyte_wrapped import main

main()
