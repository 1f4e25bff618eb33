from singer_wrapped import main

main()
