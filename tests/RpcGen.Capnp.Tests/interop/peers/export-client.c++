// Interop peer built from the schema `rpcgen capnp export` wrote for the test assembly (as
// contract.capnp): calls a Shelf served by RpcGen and prints one line per answer for the test to
// compare. Names come from the exported schema only: Shelf::Book and Shelf::Genre nested as in C#,
// name() inherited through `extends(Named)`, result fields named after their types.
// Usage: export-client <server address>

#include "contract.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/debug.h>
#include <iostream>

int main(int argc, const char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " HOST:PORT|unix:PATH" << std::endl;
    return 2;
  }

  capnp::EzRpcClient client(argv[1]);
  auto& waitScope = client.getWaitScope();
  auto shelf = client.getMain<Shelf>();

  auto name = shelf.nameRequest().send().wait(waitScope);
  std::cout << "name " << name.getResult().cStr() << std::endl;

  auto findRequest = shelf.findRequest();
  findRequest.setTitle("Dune");
  auto found = findRequest.send().wait(waitScope);
  auto book = found.getBook();
  auto binding = book.getBinding();
  std::cout << "find " << book.getTitle().cStr()
            << " genre=" << (book.getGenre() == Shelf::Genre::FICTION ? "fiction" : "other")
            << " authors=" << book.getAuthors().size() << ":" << book.getAuthors()[0].cStr()
            << " binding=" << (binding.isHardcover() ? kj::str("hardcover ", binding.getHardcover()).cStr() : "paperback")
            << std::endl;

  auto addRequest = shelf.addRequest();
  auto added = addRequest.initBook();
  added.setTitle("Cosmos");
  added.setGenre(Shelf::Genre::SCIENCE);
  auto authors = added.initAuthors(1);
  authors.set(0, "Carl Sagan");
  added.initBinding().setPaperback();
  std::cout << "add " << addRequest.send().wait(waitScope).getResult() << std::endl;

  auto genreRequest = shelf.genreOfRequest();
  genreRequest.setTitle("Cosmos");
  auto genre = genreRequest.send().wait(waitScope).getGenre();
  std::cout << "genreOf " << (genre == Shelf::Genre::SCIENCE ? "science" : "other") << std::endl;

  // Pipelined: the librarian is used before its answer arrives, and the shelf it passes back too.
  auto librarian = shelf.librarianRequest().send().getLibrarian();
  auto greetRequest = librarian.greetRequest();
  greetRequest.setVisitor("cpp");
  auto greeting = greetRequest.send();
  auto back = librarian.shelfRequest().send().getShelf();
  auto backName = back.nameRequest().send();
  std::cout << "greet " << greeting.wait(waitScope).getResult().cStr() << std::endl;
  std::cout << "shelf " << backName.wait(waitScope).getResult().cStr() << std::endl;
  return 0;
}
